// The Multi-CNN (MCNN) rate-accuracy model of the rate-accuracy paper (Section IV-C/D, Appendix).

export { digamma, fitGamma, gammaCdf, gammaPdf, gammaQuantile, KL_EPSILON, klDivergence, logGamma, MAX_SHAPE, regularizedGammaP, trigamma, type GammaFit } from './gamma.js';
export { fitLine, type LineFit } from './linear.js';
export { checkThresholds, MCNN_PARAM_NAMES, mcnnAccuracy, mcnnParams, PAPER_MCNN_FIT, rateSent, rateTerms, type McnnParams, type RateTerms } from './model.js';
export { finiteNumber, fraction, nonNegativeNumber, positiveNumber, rejected } from '../../util/validate.js';
export { cheapestSelection, frontier, solve, type McnnSolution, type Selection, type SolveOptions } from './optimise.js';
