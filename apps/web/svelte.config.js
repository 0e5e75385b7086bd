import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A static SPA: the Tora server serves build/ and falls back to 200.html for client routes.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: '200.html', strict: false }),
  },
};
