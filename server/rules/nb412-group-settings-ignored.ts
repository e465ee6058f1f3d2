// NB412 group-settings-ignored: an optimizer's step walks its parameter groups but takes a setting
// from the constructor's defaults, so a group's own value (a scheduler's learning rate, a group with
// no weight decay) is ignored.
//
// ## What it does
// Flags a read of `self.defaults["lr"]` / `this.defaults.weightDecay` in a step that loops over the
// receiver's parameter groups, when every group carries that key: a torch `Optimizer` subclass
// (torch fills each group from `defaults`), or a port whose groups are built by spreading the
// defaults into them (engine/facts/defaultsInStep.ts). Silent when the step reads the key from the
// group too.
//
// ## Why is this bad?
// Schedulers write `group["lr"]`, and param groups exist to give some tensors other settings
// (`weight_decay: 0` for biases and norms). A step that reads the defaults applies the constructor's
// values to every group: the schedule has no effect and the no-decay group is decayed.
import { defineRule } from './rule';
import { defaultsReadInStep } from '../engine/facts/defaultsInStep';

export const nb412GroupSettingsIgnored = defineRule({
  meta: {
    code: 'NB412',
    name: 'group-settings-ignored',
    severity: 'warning',
    summary: "An optimizer's step walks its parameter groups but reads a setting from the constructor's defaults: each group's own value (a scheduler's learning rate, a group without weight decay) is ignored",
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const r of defaultsReadInStep(facts)) {
      const group = facts.source(r.loop.target.span);
      const python = facts.language === 'python';
      const groupRead = (key: string): string => (python ? `${group}["${key}"]` : `${group}.${key}`);
      const listed = r.reads.map((e) => facts.source(e.span));
      const reads = listed.length > 3 ? `${listed.slice(0, 3).join(', ')} and ${listed.length - 3} more` : listed.join(', ');
      const keys = r.keys.length === 1 ? r.keys[0] : `${r.keys.slice(0, -1).join(', ')} and ${r.keys[r.keys.length - 1]}`;
      context.report({
        span: r.reads[0].span,
        message:
          `${r.cls.name}.${r.step.name}() reads ${reads} from the constructor's defaults while it steps each group of ${facts.source(r.loop.iter.span)}; ` +
          `every group carries its own ${keys}${r.spread ? ' (the defaults are spread into each group)' : ''}, which a scheduler or the group's own settings change: ` +
          `those values are ignored and every group gets the defaults. Read ${r.keys.slice(0, 2).map(groupRead).join(', ')}${r.keys.length > 2 ? ', ...' : ''} inside the loop.`,
        related: [
          { span: r.loop.headSpan ?? r.loop.iter.span, message: 'the step walks the groups here' },
          ...(r.spread ? [{ span: r.spread.span, message: 'each group gets a copy of the defaults here' }] : []),
        ],
      });
    }
  },
});
