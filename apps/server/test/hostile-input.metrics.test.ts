import { CASES } from './hostile/metrics.cases.js';
import { hostileSuite } from './hostile/harness.js';

hostileSuite('hostile input (metrics)', CASES);
