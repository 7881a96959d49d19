// The guest suites of the series in SUITE_GROUPS[1]: the newest of each mode (patched and stock 7.3).
import { defineSuites } from './suites.js';

defineSuites(1);
