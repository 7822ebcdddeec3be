// Report module: the paper's figures, MV activity maps and an offline HTML report, all drawn
// from numbers computed elsewhere.

export * from './table.js';
export * from './figures.js';
export * from './training.js';
export * from './confusion.js';
export * from './activity.js';
export * from './html.js';
