// Theme kinds and the text colour baked into math images. An SVG shown through <img> sees neither
// the page's CSS nor currentColor, so the colour is chosen here from the theme kind alone.

/** The same numbers as `vscode.ColorThemeKind`, so the client passes that value through unchanged. */
export const ThemeKind = {
  Light: 1,
  Dark: 2,
  HighContrast: 3,
  HighContrastLight: 4,
} as const;
export type ThemeKind = (typeof ThemeKind)[keyof typeof ThemeKind];

/**
 * Foreground for math on a hover of this theme kind: the default Light/Dark Modern hover foregrounds,
 * and pure white/black for high contrast. Unknown kinds (a newer VS Code) are treated as dark.
 */
export function mathColor(kind: number): string {
  switch (kind) {
    case ThemeKind.Light:
      return '#3b3b3b';
    case ThemeKind.HighContrast:
      return '#ffffff';
    case ThemeKind.HighContrastLight:
      return '#000000';
    case ThemeKind.Dark:
    default:
      return '#cccccc';
  }
}
