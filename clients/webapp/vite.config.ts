import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `base: './'`: every asset URL is relative, so the relay (or any static server) can serve the
// dashboard under any path.
// `--mode bench` builds the graph bench page instead (bench/index.html -> bench/dist), which is
// never part of the dashboard's own build.
export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [react(), tailwindcss()],
  build:
    mode === 'bench'
      ? { outDir: 'bench/dist', emptyOutDir: true, rollupOptions: { input: 'bench/index.html' } }
      : { outDir: 'dist', emptyOutDir: true },
}));
