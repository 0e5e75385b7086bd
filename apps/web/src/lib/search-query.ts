/**
 * The dashboard's search box takes a name fragment or MLflow's filter grammar (docs/mlflow.md),
 * parsed by the server's one parser: text naming an entity (`metrics.`, `params.`, `tags.`,
 * `attributes.` or one of MLflow's aliases) next to a comparator goes as `filter`, anything else
 * as the name search.
 *
 * @example
 *   searchQuery('params.lr < 0.01 and metrics.val/loss < 0.3') // { filter: 'params.lr < 0.01 and metrics.val/loss < 0.3' }
 *   searchQuery('resnet') // { startwith: 'resnet' }
 */
const ENTITY = /(?:^|[\s(])(?:metrics?|params?|parameters?|tags?|attributes?|attr|run)\.\S/i;
const COMPARATOR = /[<>=]|\b(?:i?like|in)\b/i;

/** An example shown in the box's hint (and the one the docs give). */
export const FILTER_EXAMPLE = 'params.lr < 0.01 and metrics.val/loss < 0.3';

export function isFilterExpression(text: string): boolean {
  return ENTITY.test(text) && COMPARATOR.test(text);
}

export function searchQuery(text: string): { startwith?: string; filter?: string } {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  return isFilterExpression(trimmed) ? { filter: trimmed } : { startwith: trimmed };
}
