import { agentName } from './format.ts';

/** One `<option>` per agent, for the agent pickers of the views. */
export function AgentOptions({ agents }: { agents: readonly string[] }) {
  return agents.map((a) => (
    <option key={a} value={a}>
      {agentName(a)}
    </option>
  ));
}
