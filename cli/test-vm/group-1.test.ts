// The guest suites of the series in SUITE_GROUPS[0]: the oldest of each mode (patched 5.4.1, stock 6.1).
import { defineSuites } from './suites.js';

defineSuites(0);
