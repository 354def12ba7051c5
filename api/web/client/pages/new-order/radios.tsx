/** A radio group: a fieldset with its legend (RGAA 11.5), each choice with its label and an optional line under it. */
import type { ComponentChildren, JSX } from 'preact';

export interface Choice {
  readonly value: string;
  readonly label: ComponentChildren;
  readonly detail?: ComponentChildren;
}

const idOf = (name: string, value?: string): string => `f-${name}${value === undefined ? '' : `-${value}`}`.replace(/[^A-Za-z0-9_-]/g, '-');

export function Radios(props: {
  legend: string;
  name: string;
  value: string;
  choices: readonly Choice[];
  error: string | undefined;
  onValue: (v: string) => void;
  hint?: string;
  children?: ComponentChildren;
}): JSX.Element {
  const errorId = `${idOf(props.name)}-error`;
  const hintId = `${idOf(props.name)}-hint`;
  const described = [props.hint !== undefined ? hintId : '', props.error !== undefined ? errorId : ''].filter((s) => s !== '').join(' ') || undefined;
  return (
    // The summary's link (#f-<name>) lands on the group.
    <fieldset id={idOf(props.name)} tabIndex={-1} class={props.error === undefined ? 'choices' : 'choices invalid'}>
      <legend>{props.legend}</legend>
      {props.hint !== undefined ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      {props.error !== undefined ? (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      ) : null}
      {props.choices.map((c) => (
        <div key={c.value} class={c.value === props.value ? 'choice chosen' : 'choice'}>
          <input
            type="radio"
            id={idOf(props.name, c.value)}
            name={props.name}
            value={c.value}
            checked={c.value === props.value}
            aria-describedby={described}
            onChange={() => props.onValue(c.value)}
          />
          <label for={idOf(props.name, c.value)}>
            {c.label}
            {c.detail !== undefined ? (
              <span class="detail">
                {c.detail}
              </span>
            ) : null}
          </label>
        </div>
      ))}
      {props.children}
    </fieldset>
  );
}
