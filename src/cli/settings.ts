// --preset, --config and --print-config for the commands that take reusable settings (prepare,
// train, sweep): the preset, then the file, then the flags given on the command line (commander's
// option-value source tells a given flag from a default). The rule itself is src/config/merge.ts.

import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { loadConfigFile } from '../config/file.js';
import { sectionOf, settingLayers, type Settings } from '../config/merge.js';
import type { GivenSetting } from '../config/run.js';
import { attributeName, checkSetting, PRESET_NAMES, SECTIONS, type ConfigDocument, type PresetName, type SectionName } from '../config/schema.js';
import type { ModelName } from '../nn/model.js';
import { oneOf } from '../util/validate.js';

export function addSettingsOptions(command: Command): Command {
  return command
    .addOption(new Option('--preset <name>', "start from a preset: paper (the paper's settings) or cpu (small networks and a short schedule for a 2-core CPU)"))
    .addOption(new Option('--config <file>', 'settings from a JSON or YAML file (README: Presets and config files); flags given here win over it, and it over the preset'))
    .addOption(new Option('--print-config', 'print the effective settings as a config file and stop'));
}

export interface ResolvedSettings {
  /** The command's options with the preset's and the file's settings where no flag was given. */
  opts: Record<string, unknown>;
  /** Every setting given by a flag, the file or the preset, with where it came from. */
  given: Map<string, GivenSetting>;
  preset: PresetName | undefined;
  layers: ConfigDocument[];
}

/** Whether the user typed this option (or set it in the environment), not commander's default. */
export function givenOnCommandLine(command: Command, attribute: string): boolean {
  const source = command.getOptionValueSource(attribute);
  return source === 'cli' || source === 'env';
}

/**
 * Merges a section's settings into the command's options: preset < config file < given flags.
 * `withModel`: the network picks train's per-network sub-sections (train.mv3d); it may come
 * from any layer.
 */
export async function resolveSettings(
  command: Command,
  opts: Record<string, unknown>,
  section: SectionName,
  withModel = false,
  /** The network when neither a flag nor a document names one (a resumed run's). */
  fallbackModel?: ModelName,
): Promise<ResolvedSettings> {
  const preset = opts.preset === undefined ? undefined : oneOf(opts.preset, 'preset', PRESET_NAMES);
  const file = typeof opts.config === 'string' ? await loadConfigFile(opts.config) : undefined;
  const layers = settingLayers(preset, file);
  const presetName = preset ?? file?.preset;
  const fields = SECTIONS[section].fields;
  const given = new Map<string, GivenSetting>();
  const flagged = (key: string) => command.options.some((o) => o.attributeName() === attributeName(key)) && givenOnCommandLine(command, attributeName(key));
  let model: ModelName | undefined;
  if (withModel) {
    const fromLayers = layers.map((d) => sectionOf(d, section).model).filter((m) => m !== undefined).at(-1);
    model = (flagged('model') ? opts.model : (fromLayers ?? fallbackModel)) as ModelName | undefined;
    if (model !== undefined) model = checkSetting(fields.model!, model, 'model') as ModelName;
  }
  const labels = layers.map((d) => (d === file ? `${String(opts.config)}` : `the ${presetName} preset`));
  for (const [i, doc] of layers.entries()) {
    for (const [key, value] of Object.entries(sectionOf(doc, section, model))) {
      const sub = model !== undefined && doc[section]?.[model]?.[key] !== undefined ? `${section}.${model}.${key}` : `${section}.${key}`;
      given.set(key, { value, from: doc === file ? `${labels[i]} (${sub})` : labels[i]! });
    }
  }
  for (const key of Object.keys(fields)) {
    if (flagged(key)) given.set(key, { value: opts[attributeName(key)], from: `--${key}` });
  }
  const merged: Record<string, unknown> = { ...opts };
  for (const [key, { value }] of given) merged[attributeName(key)] = value;
  return { opts: merged, given, preset: presetName, layers };
}

/** A section's settings in the file's form: its keys in their order, each checked, unset ones left out. */
export function sectionSettings(section: SectionName, settings: Record<string, unknown>): Settings {
  const values: Settings = {};
  for (const [key, spec] of Object.entries(SECTIONS[section].fields)) {
    const v = settings[key] ?? settings[attributeName(key)];
    if (v !== undefined && v !== null && v !== false) values[key] = checkSetting(spec, v, key);
  }
  return values;
}

/** --print-config: the effective settings as a YAML config file that --config reads back. */
export function printConfig(doc: ConfigDocument): void {
  process.stdout.write(stringify(doc, { lineWidth: 0 }));
}
