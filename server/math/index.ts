// The math module's public surface.
export * from './terms';
export * from './coef';
export * from './derive';
export { unicodeCoef, unicodePenalty, unicodeGradient } from './print/unicode';
export { latexCoef, latexPenalty, latexGradient, defaultSymbolTeX, defaultParamTeX, escapeTT } from './print/latex';
export type { SymbolMap } from './print/latex';
export { codeCoef, codeGradient } from './print/code';
