// The hosted dashboard's plain statement of whom it trusts: the server that serves the page
// serves the code that receives the passphrase and the vault secret.

export function HostedNotice() {
  return (
    <p className="notice" role="note" data-hosted-by={location.origin}>
      This page comes from <strong>{location.host}</strong>, the server that serves it: whoever runs that server
      serves the code that receives your passphrase and your vault's secret, and could change it. Open your vault
      here only if you trust them.
    </p>
  );
}
