/**
 * The links MLflow's client prints ("View run x at: http://tora/#/experiments/<x>/runs/<id>")
 * are MLflow UI hash routes. An MLflow run is a Tora experiment and an MLflow experiment a Tora
 * workspace (same ids), so each has a page here: this maps the hash to it, or null for any
 * other hash (an in-page anchor such as #main).
 *
 * MLflow's experiment "0" is the user's default workspace: it opens the home page (which shows the
 * workspace opened last, the default one at first).
 *
 * @example
 *   mlflowHashTarget('#/experiments/7/runs/0b6f…'); // '/experiments/0b6f…'
 */
export function mlflowHashTarget(hash: string): string | null {
  const m = /^#\/experiments\/([^/?#]+)(?:\/runs\/([^/?#]+))?(?:[/?].*)?$/.exec(hash);
  if (!m) return null;
  const [, experiment, run] = m;
  if (run) return `/experiments/${encodeURIComponent(decodeURIComponent(run))}`;
  const id = decodeURIComponent(experiment!);
  return id === '0' ? '/' : `/?ws=${encodeURIComponent(id)}`;
}
