import { defineConfig } from 'vite';

// base, outDir and emptyOutDir are in package.json's build script, where the
// README's rebuild instruction points.
export default defineConfig({
  build: {
    // MapLibre is most of the weight and changes less often than the app:
    // its own chunk stays cached across releases of the pages.
    chunkSizeWarningLimit: 1100,
    rollupOptions: {
      output: {
        manualChunks: { maplibre: ['maplibre-gl'] },
      },
    },
  },
});
