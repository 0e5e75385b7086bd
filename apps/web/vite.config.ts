import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    // `npm run dev` talks to a Tora server on :8080 (TORA_PORT) for the API.
    proxy: { '/api': process.env.TORA_DEV_API ?? 'http://localhost:8080' },
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
