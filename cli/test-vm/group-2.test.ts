// The guest suites of the series in SUITE_GROUPS[1] (6.12).
import { defineSuites } from './suites.js';

defineSuites(1);
