import { CASES } from './hostile/accounts.cases.js';
import { hostileSuite } from './hostile/harness.js';

hostileSuite('hostile input (accounts)', CASES);
