// The dashboard's views, addressed by the URL hash (`#/graph`), so any view can be bookmarked
// and the app works under any path the relay serves it from.

import { useEffect, useState } from 'react';

export const VIEWS = [
  { id: 'graph', title: 'Knowledge graph' },
  { id: 'alignment', title: 'Alignment' },
  { id: 'conflicts', title: 'Conflicts' },
  { id: 'answers', title: 'Answers' },
  { id: 'exports', title: 'Exports' },
  { id: 'devices', title: 'Devices' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

function viewFromHash(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '');
  return VIEWS.find((v) => v.id === id)?.id ?? 'graph';
}

export function useCurrentView(): ViewId {
  const [view, setView] = useState<ViewId>(() => viewFromHash(location.hash));
  useEffect(() => {
    const onHash = () => setView(viewFromHash(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return view;
}
