// The guest suites of the series in SUITE_GROUPS[0] (5.4.1 and 6.1).
import { defineSuites } from './suites.js';

defineSuites(0);
