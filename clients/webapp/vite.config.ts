import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

import { integrity } from './plugins/integrity.ts';

// `base: './'`: every asset URL is relative, so the relay (or any static server) can serve the
// dashboard under any path.
// `--mode bench` builds the graph bench page instead (bench/index.html -> bench/dist), which is
// never part of the dashboard's own build. `integrity()` adds Subresource Integrity to the page's
// scripts and stylesheets.
export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [react(), tailwindcss(), integrity()],
  build:
    mode === 'bench'
      ? { outDir: 'bench/dist', emptyOutDir: true, rollupOptions: { input: 'bench/index.html' } }
      : { outDir: 'dist', emptyOutDir: true },
}));
