// Math rendering for hovers (SVG images) and the update-rule panel (KaTeX HTML). Nothing here
// imports vscode, so all of it runs under mocha.
export { findMathBlocks, MATH_FENCE_LANGUAGE, type MathBlock } from './fences';
export {
  altText,
  defaultHoverRenderer,
  HOVER_MARKDOWN_LIMIT,
  HOVER_MATH_MODES,
  HoverMathRenderer,
  renderHoverMarkdown,
  svgDataUri,
  type HoverMathMode,
  type HoverMathRendererOptions,
  type RenderHoverOptions,
  type RenderStats,
} from './hover';
export {
  escapeHtml,
  InlineStyles,
  panelBody,
  panelHtml,
  texToKatexHtml,
  type PanelContent,
  type PanelLegendEntry,
  type PanelMath,
  type PanelPage,
  type PanelSection,
} from './panelHtml';
export { isWarm, MAX_TEX_LENGTH, TexRenderError, texToMathML, texToSvg, warmUp, type TexToSvgOptions } from './tex';
export { mathColor, ThemeKind } from './theme';
