import { CASES } from './hostile/experiments.cases.js';
import { hostileSuite } from './hostile/harness.js';

hostileSuite('hostile input (experiments)', CASES);
