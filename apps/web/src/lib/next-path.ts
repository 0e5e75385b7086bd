/**
 * Where to go after signing in: the page's `?next=` when it is a path of this app (never another
 * origin: `//evil.example` and `https://…` are refused), else the dashboard.
 *
 * @example nextPath(new URL('http://t/login?next=/experiments/1')) // '/experiments/1'
 */
export function nextPath(url: URL): string {
  const next = url.searchParams.get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}
