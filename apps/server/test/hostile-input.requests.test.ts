import { CASES } from './hostile/requests.cases.js';
import { hostileSuite } from './hostile/harness.js';

hostileSuite('hostile input (requests)', CASES);
