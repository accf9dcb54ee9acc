// Subresource Integrity for the built page: every script and stylesheet that index.html loads
// gets the SHA-384 of the file it names, so a browser runs them only as they were built. (The
// page's own code then loads the rest by content-hashed names.)

import type { Plugin } from 'vite';

const TAG = /<(script|link)\b([^>]*?)\s(src|href)="\.\/([^"]+)"([^>]*)>/g;

// Web Crypto, as in the browser: Node has it too, and it needs no Node type definitions.
async function sha384(source: string | Uint8Array): Promise<string> {
  const bytes = typeof source === 'string' ? new TextEncoder().encode(source) : source;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-384', bytes as Uint8Array<ArrayBuffer>));
  return `sha384-${btoa(String.fromCharCode(...digest))}`;
}

export function integrity(): Plugin {
  return {
    name: 'selfos-integrity',
    apply: 'build',
    // After every other plugin's: Vite still rewrites chunks in its own generateBundle.
    generateBundle: {
      order: 'post',
      async handler(_options, bundle) {
        const page = bundle['index.html'];
        if (!page || page.type !== 'asset') return;
        let html = typeof page.source === 'string' ? page.source : new TextDecoder().decode(page.source);
        for (const [tag, name, before, attr, file, after] of [...html.matchAll(TAG)]) {
          const target = bundle[file ?? ''];
          if (!target) this.error(`index.html names ${file}, which the build did not emit`);
          if (/\bintegrity=/.test(tag)) this.error(`${file} already carries an integrity attribute`);
          const hash = await sha384(target.type === 'chunk' ? target.code : target.source);
          html = html.replace(tag, `<${name}${before} ${attr}="./${file}" integrity="${hash}"${after}>`);
        }
        page.source = html;
      },
    },
  };
}
