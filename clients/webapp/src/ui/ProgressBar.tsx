// A progress bar that is indeterminate while the amount of work is unknown (one WASM call runs),
// and determinate once it is (chunks written out).

export function ProgressBar({ label, value }: { label: string; value: number | null }) {
  return (
    <div className="progress-wrap">
      <span className="text-sm">{value === null ? `${label}…` : `${label}: ${Math.round(value * 100)}%`}</span>
      <progress
        className="progress"
        aria-label={label}
        {...(value === null ? {} : { value, max: 1 })}
      />
    </div>
  );
}
