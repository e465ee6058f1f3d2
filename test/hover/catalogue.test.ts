// The math catalogue test: every regularizer and optimizer knob of the catalogue
// (server/engine/facts/catalogue.ts) is pinned to the R(W), ∇R(W) or update that the hover shows
// for it, for a literal and for a symbolic coefficient. The expectations are written from
// ../shared/reference/framework-semantics.md, not from the engine's output: a table here that
// disagrees with the hover is a bug in one of them. A catalogue entry without a row here fails.
import * as assert from 'node:assert/strict';
import { initEngine, type LanguageId } from '../../server/engine';
import { explainAt } from '../../server/engine/explain';
import {
  KERAS_OPTIMIZERS,
  OPTAX_DECAYED,
  TFA_OPTIMIZERS,
  TFJS_OPTIMIZERS,
  TFJS_OPTIMIZER_CLASSES,
  TORCH_OPTIMIZERS,
} from '../../server/engine/facts/catalogue';

function hover(code: string, at: string, language: LanguageId = 'python'): ReturnType<typeof explainAt> {
  return explainAt(code, { language }, code.lastIndexOf(at) + 1);
}

/** R(W) and ∇R(W) as the hover's Unicode lines show them. */
function penalty(code: string, language: LanguageId = 'python'): [string, string] | undefined {
  const ex = hover(code, '(', language);
  return ex?.penalty ? [ex.penalty.unicode, ex.penalty.gradientUnicode] : undefined;
}

const KERAS = (call: string): string => `from tensorflow.keras import regularizers\nr = regularizers.${call}\n`;
const TFJS = (call: string): string => `import * as tf from '@tensorflow/tfjs';\nconst r = tf.regularizers.${call};\n`;
const TF1 = (call: string): string => `import tensorflow as tf\nr = tf.contrib.layers.${call}\n`;

/** Every regularizer constructor, each with a literal and a symbolic coefficient. */
const REGULARIZERS: { code: string; language?: LanguageId; R: string; grad: string }[] = [
  // Keras l2(c) = c·ΣW² (no ½), default 0.01; l1(c) = c·Σ|W|.
  { code: KERAS('l2(0.1)'), R: 'R(W) = 0.1ΣW²', grad: '∇R(W) = 0.2W' },
  { code: KERAS('l2(lam)'), R: 'R(W) = λΣW²', grad: '∇R(W) = 2λW' },
  { code: KERAS('l2()'), R: 'R(W) = 0.01ΣW²', grad: '∇R(W) = 0.02W' },
  { code: KERAS('L2(0.1)'), R: 'R(W) = 0.1ΣW²', grad: '∇R(W) = 0.2W' },
  { code: KERAS('L2(l2=lam)'), R: 'R(W) = λΣW²', grad: '∇R(W) = 2λW' },
  { code: KERAS('l1(0.1)'), R: 'R(W) = 0.1Σ|W|', grad: '∇R(W) = 0.1·sign(W)' },
  { code: KERAS('l1(lam)'), R: 'R(W) = λΣ|W|', grad: '∇R(W) = λ·sign(W)' },
  { code: KERAS('L1(0.1)'), R: 'R(W) = 0.1Σ|W|', grad: '∇R(W) = 0.1·sign(W)' },
  { code: KERAS('L1L2(l1=0.1, l2=0.2)'), R: 'R(W) = 0.1Σ|W| + 0.2ΣW²', grad: '∇R(W) = 0.1·sign(W) + 0.4W' },
  { code: KERAS('L1L2(l1=a, l2=b)'), R: 'R(W) = aΣ|W| + bΣW²', grad: '∇R(W) = a·sign(W) + 2bW' },
  { code: KERAS('l1_l2(l1=0.1, l2=0.2)'), R: 'R(W) = 0.1Σ|W| + 0.2ΣW²', grad: '∇R(W) = 0.1·sign(W) + 0.4W' },
  // Keras 3: L1L2() and l1_l2() default to 0 and 0.
  { code: KERAS('L1L2()'), R: 'R(W) = 0', grad: '∇R(W) = 0' },
  // tfjs: the same forms, configured with an object; l1l2() defaults to 0.01 and 0.01.
  { code: TFJS('l2({ l2: 0.1 })'), language: 'typescript', R: 'R(W) = 0.1ΣW²', grad: '∇R(W) = 0.2W' },
  { code: TFJS('l2({ l2: lam })'), language: 'typescript', R: 'R(W) = λΣW²', grad: '∇R(W) = 2λW' },
  { code: TFJS('l2()'), language: 'typescript', R: 'R(W) = 0.01ΣW²', grad: '∇R(W) = 0.02W' },
  { code: TFJS('l1({ l1: 0.1 })'), language: 'typescript', R: 'R(W) = 0.1Σ|W|', grad: '∇R(W) = 0.1·sign(W)' },
  { code: TFJS('l1({ l1: lam })'), language: 'typescript', R: 'R(W) = λΣ|W|', grad: '∇R(W) = λ·sign(W)' },
  { code: TFJS('l1l2({ l1: 0.1, l2: 0.2 })'), language: 'typescript', R: 'R(W) = 0.1Σ|W| + 0.2ΣW²', grad: '∇R(W) = 0.1·sign(W) + 0.4W' },
  { code: TFJS('l1l2()'), language: 'typescript', R: 'R(W) = 0.01Σ|W| + 0.01ΣW²', grad: '∇R(W) = 0.01·sign(W) + 0.02W' },
  // TF1: l2_regularizer(scale) = scale · tf.nn.l2_loss(W) = scale·ΣW²/2, whose gradient is scale·W.
  { code: TF1('l2_regularizer(0.1)'), R: 'R(W) = 0.05ΣW²', grad: '∇R(W) = 0.1W' },
  { code: TF1('l2_regularizer(scale)'), R: 'R(W) = 0.5·scale·ΣW²', grad: '∇R(W) = scale·W' },
  { code: TF1('l1_regularizer(0.1)'), R: 'R(W) = 0.1Σ|W|', grad: '∇R(W) = 0.1·sign(W)' },
  { code: TF1('l1_regularizer(scale)'), R: 'R(W) = scale·Σ|W|', grad: '∇R(W) = scale·sign(W)' },
];

const SGD_LIKE = ['gₜ = ∇L(θ) + λθ', 'θ ← θ − η·gₜ', 'θ ← (1 − ηλ)θ − η∇L(θ)'];
const ADAM_COUPLED = ['gₜ = ∇L(θ) + λθ', 'θ ← θ − η·m̂ₜ/(√v̂ₜ + ε)'];
const ADAM_DECOUPLED = ['gₜ = ∇L(θ)', 'θ ← (1 − ηλ)θ − η·m̂ₜ/(√v̂ₜ + ε)'];
/** Adamax divides by an infinity norm, not √v̂ (ε's place differs between frameworks, so it is left out). */
const ADAMAX_NORM = 'uₜ = max(β₂·uₜ₋₁, |gₜ|)';

/** torch.optim (framework-semantics.md §1): weight_decay is coupled L2, except AdamW. */
const TORCH: Record<string, { coupling: string; lines: string[] }> = {
  SGD: { coupling: 'coupled', lines: SGD_LIKE },
  ASGD: { coupling: 'coupled', lines: SGD_LIKE },
  Adam: { coupling: 'coupled', lines: ADAM_COUPLED },
  Adamax: { coupling: 'coupled', lines: ['gₜ = ∇L(θ) + λθ', ADAMAX_NORM, 'θ ← θ − η·m̂ₜ/uₜ'] },
  NAdam: { coupling: 'coupled', lines: ADAM_COUPLED },
  RAdam: { coupling: 'coupled', lines: ADAM_COUPLED },
  AdamW: { coupling: 'decoupled', lines: ADAM_DECOUPLED },
  RMSprop: { coupling: 'coupled', lines: ['gₜ = ∇L(θ) + λθ', 'θ ← θ − η·gₜ/(√vₜ + ε)'] },
  Adagrad: { coupling: 'coupled', lines: ['gₜ = ∇L(θ) + λθ', 'θ ← θ − η·gₜ/(√sₜ + ε)'] },
  Adadelta: { coupling: 'coupled', lines: ['gₜ = ∇L(θ) + λθ', 'θ ← θ − η·step(gₜ)'] },
};

/** Keras 3 (§2b): weight_decay on any optimizer is decoupled and multiplied by the learning rate. */
const KERAS_STEP: Record<string, string> = {
  SGD: 'η·gₜ', Adam: 'η·m̂ₜ/(√v̂ₜ + ε)', AdamW: 'η·m̂ₜ/(√v̂ₜ + ε)', Adamax: 'η·m̂ₜ/uₜ', Nadam: 'η·m̂ₜ/(√v̂ₜ + ε)', Lamb: 'η·m̂ₜ/(√v̂ₜ + ε)',
  RMSprop: 'η·gₜ/(√vₜ + ε)', Adagrad: 'η·gₜ/(√sₜ + ε)', Adadelta: 'η·step(gₜ)', Ftrl: 'η·step(gₜ)', Lion: 'η·step(gₜ)', Adafactor: 'η·step(gₜ)', Muon: 'η·step(gₜ)',
};

/** tfa (§3): decoupled, and not multiplied by the learning rate. */
const TFA: Record<string, string> = { AdamW: 'θ ← (1 − λ)θ − η·m̂ₜ/(√v̂ₜ + ε)', SGDW: 'θ ← (1 − λ)θ − η·gₜ' };

describe('math catalogue: hover of every regularizer and optimizer knob', () => {
  before(() => initEngine());

  for (const row of REGULARIZERS) {
    const call = row.code.trim().split('\n').pop()!;
    it(`regularizer ${call}`, () => assert.deepEqual(penalty(row.code, row.language), [row.R, row.grad]));
  }

  for (const name of Object.keys(TORCH_OPTIMIZERS)) {
    for (const [lr, wd] of [['0.1', '0.01'], ['lr', 'wd']]) {
      it(`torch.optim.${name}(lr=${lr}, weight_decay=${wd})`, () => {
        const expected = TORCH[name];
        assert.ok(expected, `no expected update for torch.optim.${name}: add it to this table`);
        const ex = hover(`import torch\nopt = torch.optim.${name}(model.parameters(), lr=${lr}, weight_decay=${wd})\n`, name);
        assert.equal(ex?.optimizer?.coupling, expected.coupling);
        assert.equal(ex?.optimizer?.lrScaled, true);
        assert.deepEqual(ex?.optimizer?.unicode, expected.lines);
        const legend = ex!.optimizer!.legend.map((l) => `${l.unicode}=${l.code}`);
        assert.ok(legend.includes(`λ=${wd}`) && legend.includes(`η=${lr}`), legend.join(', '));
      });
    }
  }

  for (const name of KERAS_OPTIMIZERS) {
    for (const wd of ['0.01', 'wd']) {
      it(`keras.optimizers.${name}(weight_decay=${wd})`, () => {
        const step = KERAS_STEP[name];
        assert.ok(step, `no expected update for keras.optimizers.${name}: add it to this table`);
        const ex = hover(`import keras\nopt = keras.optimizers.${name}(learning_rate=0.1, weight_decay=${wd})\n`, name);
        assert.equal(ex?.optimizer?.coupling, 'decoupled');
        assert.equal(ex?.optimizer?.lrScaled, true);
        assert.deepEqual(ex?.optimizer?.unicode, ['gₜ = ∇L(θ)', ...(name === 'Adamax' ? [ADAMAX_NORM] : []), `θ ← (1 − ηλ)θ − ${step}`]);
      });
    }
  }

  for (const name of TFA_OPTIMIZERS) {
    for (const wd of ['0.01', 'wd']) {
      it(`tfa.optimizers.${name}(weight_decay=${wd})`, () => {
        assert.ok(TFA[name], `no expected update for tfa.optimizers.${name}: add it to this table`);
        const ex = hover(`import tensorflow_addons as tfa\nopt = tfa.optimizers.${name}(weight_decay=${wd}, learning_rate=0.1)\n`, name);
        assert.equal(ex?.optimizer?.coupling, 'decoupled');
        assert.equal(ex?.optimizer?.lrScaled, false);
        assert.deepEqual(ex?.optimizer?.unicode, ['gₜ = ∇L(θ)', TFA[name]]);
      });
    }
  }

  for (const name of Object.keys(OPTAX_DECAYED)) {
    for (const wd of ['0.01', 'wd']) {
      it(`optax.${name}(weight_decay=${wd})`, () => {
        // optax §4: the decay joins the scaled update, θ ← θ − η(u + λθ).
        const ex = hover(`import optax\nopt = optax.${name}(learning_rate=0.1, weight_decay=${wd})\n`, name);
        assert.equal(ex?.optimizer?.coupling, 'decoupled');
        assert.equal(ex?.optimizer?.lrScaled, true);
        assert.deepEqual(ex?.optimizer?.unicode, ['gₜ = ∇L(θ)', 'θ ← θ − η(m̂ₜ/(√(v̂ₜ + ε̄) + ε) + λθ)']);
      });
    }
  }

  it('tfjs optimizers have no weight-decay knob, so their hover shows no decay', () => {
    for (const name of [...TFJS_OPTIMIZERS, ...Object.keys(TFJS_OPTIMIZER_CLASSES)]) {
      const call = TFJS_OPTIMIZERS.has(name) ? `tf.train.${name}(0.1)` : `new tf.${name}(0.1)`;
      const ex = hover(`import * as tf from '@tensorflow/tfjs';\nconst opt = ${call};\n`, name, 'typescript');
      assert.equal(ex?.optimizer?.coupling ?? 'none', 'none', call);
    }
  });
});
