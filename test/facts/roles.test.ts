// Naming heuristics (roles.ts) and the framework names of the catalogue that were split from the
// same tables: each predicate pinned on names it must and must not accept.
import * as assert from 'node:assert/strict';
import * as roles from '../../server/engine/facts/roles';
import { isActivationOrForward } from '../../server/engine/facts/catalogue';

function check(predicate: (name: string) => boolean, yes: string[], no: string[]): void {
  for (const name of yes) assert.equal(predicate(name), true, `${predicate.name}(${name})`);
  for (const name of no) assert.equal(predicate(name), false, `${predicate.name}(${name})`);
}

describe('roles: naming heuristics', () => {
  it('tells objectives to minimize from quantities to maximize', () => {
    check(roles.isLossWord, ['loss', 'mse', 'cross_entropy', 'criterion', 'J'], ['reward', 'W', 'gamma']);
    check(roles.isAscentWord, ['reward', 'log_prob', 'elbo', 'advantage', 'entropy', 'G_t'], ['cross_entropy', 'loss', 'W']);
    check(roles.isObjectiveName, ['loss', 'total_cost', 'obj', 'nll'], ['object', 'reward']);
    check(roles.isMaximizedObjectiveName, ['ll', 'log_lik', 'elbo', 'total_reward'], ['loss', 'll_grad']);
    check(roles.isObjectiveRecordName, ['losses', 'loss_history', 'best_loss'], ['loss', 'total_loss']);
    check(roles.isWholeLossName, ['loss', 'total_cost', 'objective'], ['reg_loss', 'l2_cost', 'weight_loss', 'W']);
    check(roles.isRunningTotalName, ['loss', 'pen', 'reg_sum', 'l2', 'total'], ['W', 'theta', 'dW']);
  });

  it('reads residual sides and inputs', () => {
    check(roles.isTargetName, ['y', 'labels', 'y_true', 'trainY'], ['y_pred', 'x']);
    check(roles.isPredictionName, ['y_hat', 'output', 'probs', 'a'], ['y', 'W']);
    check(roles.isInputName, ['x', 'X_batch', 'a_prev', 'inputs'], ['y', 'W']);
    check(roles.isOptimizedInputName, ['x_adv', 'noise', 'z', 'img', 'delta'], ['W', 'theta', 'bias']);
  });

  it('splits forward passes into framework names and project names', () => {
    // The one table of the direction analysis, now catalogue (framework) + roles (convention).
    check((n) => isActivationOrForward(n) || roles.isModelCallName(n), ['sigmoid', 'forward', 'predict_proba', 'feedforward', 'Net', 'infer'], ['loss', 'sigmoid_prime']);
    check(isActivationOrForward, ['sigmoid', 'relu', 'forward', 'apply'], ['feedforward', 'net']);
    check(roles.isModelCallName, ['feedforward', 'net', 'network'], ['sigmoid', 'forward']);
  });

  it('reads settings, counts and penalties', () => {
    check(roles.isHyperparameterName, ['mu', 'beta1', 'eps', 'batch_size'], ['W', 'lr_decay']);
    check(roles.isWeightDecayName, ['weight_decay', 'wd', 'l2_reg', 'lam'], ['rho', 'decay']);
    check(roles.isSizeSymbol, ['N', 'num_train', 'len(data)', 'X.shape[0]', 'batch_size'], ['lam', 'reg']);
    check(roles.isPenaltyVariableName, ['l1_penalty', 'reg_term', 'ridge', 'reg_loss', 'l2loss'], ['loss', 'data_loss', 'W']);
    check(roles.isParsedArgsName, ['args', 'FLAGS', 'hparams'], ['config', 'arg']);
  });

  it('tells embeddings from their strength', () => {
    check(roles.isWeightName, ['emb', 'embeddings', 'emb_user', 'W1'], ['emb_reg', 'emb_decay', 'embedding_l2', 'reg']);
  });

  it('reads gradients and parameter collections', () => {
    check(roles.isStrongGradientName, ['dW', 'grads', 'grad_w', 'nabla_b', 'gW'], ['W', 'dropout']);
    check(roles.isBiasName, ['b', 'b2', 'bias_out'], ['beta', 'W']);
    check(roles.isParameterCollectionName, ['model.parameters()', 'weights', 'theta'], ['grads', 'data']);
    check(roles.isBackwardOwnerName, ['accelerator', 'self', 'trainer.fabric'], ['loss', 'model']);
  });

  it('reads intent from code text', () => {
    check(roles.hasAscentContext, ['def gradient_ascent(x):', 'class PolicyGradient:', '# maximise the reward'], ['def train(model):', 'loss.backward()']);
    check(roles.mentionsNonnegativity, ['# NMF by multiplicative updates', 'nonnegative weights'], ['weights']);
  });
});
