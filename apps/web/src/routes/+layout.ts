// A client-only SPA: the Tora server serves build/200.html for every page route.
export const ssr = false;
export const prerender = false;
