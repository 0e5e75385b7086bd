// The --smoke size every benchmark takes: tiny data, a few seconds, the whole path (baseline
// included where it needs no extra install), so the test command proves each benchmark still
// runs. Figures printed in smoke mode are not results, and the banner says so.
export const SMOKE = process.argv.includes('--smoke');

/** The full size, or the smoke size under --smoke. */
export const size = (full, smoke) => (SMOKE ? smoke : full);

/** Prints once, first, that what follows is a smoke run when it is one. */
export function smokeBanner(name) {
  if (SMOKE) console.log(`${name} --smoke: tiny sizes to prove the benchmark runs end to end; figures below are NOT results`);
}
