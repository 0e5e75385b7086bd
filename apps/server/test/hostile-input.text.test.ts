import { CASES } from './hostile/text.cases.js';
import { hostileSuite } from './hostile/harness.js';

hostileSuite('hostile input (text)', CASES);
