// The start form's choice of load model, and its list of declared scenarios (a checkbox each).
import type { StartMode } from '../prefs';
import type { ScenarioInfo } from '../types';

export const MODE_LABELS: Record<StartMode, string> = {
  users: 'Users',
  arrival: 'Arrival rate',
  scenarios: 'Scenarios',
};

const MODE_HINTS: Record<StartMode, string> = {
  users: 'A number of users, each looping task → wait (Locust’s closed model).',
  arrival: 'Iterations started per second whatever the response times (the open model); when every user is busy and the pool is full, iterations are dropped and counted.',
  scenarios: 'The scenarios the cicadafile declares, each with its own executor.',
};

export function ModeChoice({ modes, mode, onMode }: { modes: readonly StartMode[]; mode: StartMode; onMode(mode: StartMode): void }) {
  return (
    <fieldset class="modes span-all" data-testid="start-mode">
      <legend>Load</legend>
      {modes.map((m) => (
        <label class="check" key={m}>
          <input
            type="radio"
            name="start-mode"
            data-testid={`start-mode-${m}`}
            checked={mode === m}
            onChange={(e) => e.currentTarget.checked && onMode(m)}
          />
          <span>{MODE_LABELS[m]}</span>
        </label>
      ))}
      <p class="hint">{MODE_HINTS[mode]}</p>
    </fieldset>
  );
}

interface Props {
  scenarios: readonly ScenarioInfo[];
  chosen: readonly string[];
  invalid: boolean;
  onToggle(name: string, on: boolean): void;
}

/** Names, executors and descriptions come from the cicadafile: rendered as text. */
export function ScenarioChoice({ scenarios, chosen, invalid, onToggle }: Props) {
  return (
    <fieldset class={`scenarios span-all${invalid ? ' invalid' : ''}`} data-testid="start-scenarios">
      <legend>Scenarios</legend>
      {scenarios.map((s) => (
        <label class="check scenario" key={s.name}>
          <input
            type="checkbox"
            data-testid={`start-scenario-${s.name}`}
            checked={chosen.includes(s.name)}
            onChange={(e) => onToggle(s.name, e.currentTarget.checked)}
          />
          <span class="scenario-name">{s.name}</span>
          <span class="tag">{s.executor}</span>
          <span class="muted scenario-description">{s.description}</span>
        </label>
      ))}
    </fieldset>
  );
}
