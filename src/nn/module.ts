import { ShapeError } from '../errors.js';
import { keep } from '../torch/scope.js';
import { Tensor, noGrad } from '../torch/tensor.js';
import { Parameter } from './parameter.js';

export type StateDict = Map<string, Tensor>;

/**
 * Base of every layer and model. Names of parameters, buffers and children
 * follow PyTorch's, so state-dict keys match a PyTorch model of the same
 * structure and weights move between the two by name.
 */
export abstract class Module {
  training = true;
  readonly #parameters = new Map<string, Parameter>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  protected registerParameter(name: string, initial: Tensor): Parameter {
    const p = new Parameter(initial);
    this.#parameters.set(name, p);
    return p;
  }

  protected registerBuffer(name: string, value: Tensor): Tensor {
    keep(value);
    this.#buffers.set(name, value);
    return value;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#children.set(name, module);
    return module;
  }

  *namedChildren(): Iterable<[string, Module]> {
    yield* this.#children;
  }

  *namedModules(prefix = ''): Iterable<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.#children) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  *namedParameters(prefix = ''): Iterable<[string, Parameter]> {
    for (const [name, p] of this.#parameters) yield [prefix ? `${prefix}.${name}` : name, p];
    for (const [name, child] of this.#children) yield* child.namedParameters(prefix ? `${prefix}.${name}` : name);
  }

  *namedBuffers(prefix = ''): Iterable<[string, Tensor]> {
    for (const [name, b] of this.#buffers) yield [prefix ? `${prefix}.${name}` : name, b];
    for (const [name, child] of this.#children) yield* child.namedBuffers(prefix ? `${prefix}.${name}` : name);
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  parameterCount(): number {
    return this.parameters().reduce((sum, p) => sum + p.size, 0);
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** The module's live parameters and buffers by PyTorch key (not copies). */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [name, p] of this.namedParameters()) out.set(name, p);
    for (const [name, b] of this.namedBuffers()) out.set(name, b);
    return out;
  }

  /**
   * Copies values in by key. Strict: every key of the module must be given and
   * no other key may appear. A missing key, an unexpected key or a shape
   * mismatch throws naming the key, before anything is copied.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (strict && missing.length > 0) throw new ShapeError(`state dict is missing key '${missing[0]}'${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`);
    if (strict && unexpected.length > 0) {
      throw new ShapeError(`state dict has unexpected key '${unexpected[0]}'${unexpected.length > 1 ? ` (and ${unexpected.length - 1} more)` : ''}`);
    }
    for (const [key, target] of own) {
      const source = state.get(key);
      if (source === undefined) continue;
      const want = target.shape.join('x');
      const got = source.shape.join('x');
      if (want !== got) throw new ShapeError(`state dict key '${key}' has shape [${source.shape.join(', ')}], model expects [${target.shape.join(', ')}]`);
    }
    noGrad(() => {
      for (const [key, target] of own) {
        const source = state.get(key);
        if (source === undefined) continue;
        if (source.dtype === target.dtype) {
          target.copy_(source);
        } else {
          const converted = source.to(target.dtype);
          target.copy_(converted);
          converted.dispose();
        }
      }
    });
  }

  /** Frees every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const [, p] of this.namedParameters()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }
}
