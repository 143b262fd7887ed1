// The value language of schedules: numbers, `t` (the frame), `pi`, `max_f` (frames − 1),
// + − * / ^ (right-associative power), unary minus, parentheses and sin cos tan abs min max floor
// ceil. Parsed once into a tree and evaluated per frame; never `eval`.

export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

type Node =
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: 't' | 'pi' | 'max_f' }
  | { kind: 'neg'; arg: Node }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/' | '^'; left: Node; right: Node }
  | { kind: 'call'; fn: FnName; args: Node[] };

export interface ExpressionEnv { t: number; max_f: number }

const FUNCTIONS = {
  sin: [1, 1], cos: [1, 1], tan: [1, 1], abs: [1, 1], floor: [1, 1], ceil: [1, 1], min: [2, Infinity], max: [2, Infinity],
} as const;
type FnName = keyof typeof FUNCTIONS;

type Token = { type: 'num'; value: number } | { type: 'id'; value: string } | { type: 'op'; value: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/^(),]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new ExpressionError(`unexpected "${src.slice(i).trim()[0]}" at position ${i + 1}`);
    if (m[1] !== undefined) tokens.push({ type: 'num', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ type: 'id', value: m[2] });
    else tokens.push({ type: 'op', value: m[3] === '**' ? '^' : m[3]! });
    i = re.lastIndex;
  }
  return tokens;
}

const MAX_DEPTH = 64;

/** Parses `src` (throws ExpressionError with a readable reason). */
export function parseExpression(src: string): Expression {
  const tokens = tokenize(src);
  let pos = 0;
  let depth = 0;
  const peek = () => tokens[pos];
  const isOp = (v: string) => peek()?.type === 'op' && peek()!.value === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new ExpressionError(`expected "${v}"${peek() ? ` before "${String(peek()!.value)}"` : ' at the end'}`);
    pos++;
  };
  const enter = () => { if (++depth > MAX_DEPTH) throw new ExpressionError('expression nested too deeply'); };

  // sum := product (('+'|'-') product)*
  function sum(): Node {
    let left = product();
    while (isOp('+') || isOp('-')) {
      const op = (tokens[pos++] as { value: '+' | '-' }).value;
      left = { kind: 'bin', op, left, right: product() };
    }
    return left;
  }
  // product := unary (('*'|'/') unary)*
  function product(): Node {
    let left = unary();
    while (isOp('*') || isOp('/')) {
      const op = (tokens[pos++] as { value: '*' | '/' }).value;
      left = { kind: 'bin', op, left, right: unary() };
    }
    return left;
  }
  // unary := '-' unary | '+' unary | power   (so -2^2 = -(2^2), as in Python)
  function unary(): Node {
    enter();
    try {
      if (isOp('-')) { pos++; return { kind: 'neg', arg: unary() }; }
      if (isOp('+')) { pos++; return unary(); }
      return power();
    } finally { depth--; }
  }
  // power := atom ('^' unary)?   (right-associative)
  function power(): Node {
    const base = atom();
    if (isOp('^')) { pos++; return { kind: 'bin', op: '^', left: base, right: unary() }; }
    return base;
  }
  function atom(): Node {
    const tok = peek();
    if (!tok) throw new ExpressionError('unexpected end of expression');
    if (tok.type === 'num') { pos++; return { kind: 'num', value: tok.value }; }
    if (tok.type === 'op' && tok.value === '(') {
      pos++;
      enter();
      const inner = sum();
      depth--;
      expect(')');
      return inner;
    }
    if (tok.type === 'id') {
      pos++;
      const name = tok.value;
      if (name === 't' || name === 'pi' || name === 'max_f') return { kind: 'var', name };
      if (Object.hasOwn(FUNCTIONS, name)) {
        const fn = name as FnName;
        expect('(');
        enter();
        const args = [sum()];
        while (isOp(',')) { pos++; args.push(sum()); }
        depth--;
        expect(')');
        const [lo, hi] = FUNCTIONS[fn];
        if (args.length < lo || args.length > hi) throw new ExpressionError(`${fn}() takes ${hi === Infinity ? `at least ${lo}` : lo} argument${lo === 1 && hi === 1 ? '' : 's'}, not ${args.length}`);
        return { kind: 'call', fn, args };
      }
      throw new ExpressionError(`unknown name "${name}" (use t, pi, max_f, sin, cos, tan, abs, min, max, floor, ceil)`);
    }
    throw new ExpressionError(`unexpected "${tok.value}"`);
  }

  if (tokens.length === 0) throw new ExpressionError('empty value');
  const root = sum();
  if (pos < tokens.length) throw new ExpressionError(`unexpected "${String(tokens[pos]!.value)}"`);
  return new Expression(root);
}

function evaluate(n: Node, env: ExpressionEnv): number {
  switch (n.kind) {
    case 'num': return n.value;
    case 'var': return n.name === 'pi' ? Math.PI : env[n.name];
    case 'neg': return -evaluate(n.arg, env);
    case 'bin': {
      const a = evaluate(n.left, env);
      const b = evaluate(n.right, env);
      switch (n.op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/': return a / b;
        case '^': return a ** b;
      }
    }
    case 'call': {
      const args = n.args.map((a) => evaluate(a, env));
      switch (n.fn) {
        case 'min': return Math.min(...args);
        case 'max': return Math.max(...args);
        default: return Math[n.fn](args[0]!);
      }
    }
  }
}

function usesT(n: Node): boolean {
  switch (n.kind) {
    case 'var': return n.name === 't';
    case 'num': return false;
    case 'neg': return usesT(n.arg);
    case 'bin': return usesT(n.left) || usesT(n.right);
    case 'call': return n.args.some(usesT);
  }
}

export class Expression {
  readonly #root: Node;
  /** True when the value depends on the frame (then it is evaluated at every frame). */
  readonly dependsOnFrame: boolean;
  constructor(root: Node) {
    this.#root = root;
    this.dependsOnFrame = usesT(root);
  }
  /** The value at `env`; throws ExpressionError when it is not a finite number. */
  evaluate(env: ExpressionEnv): number {
    const v = evaluate(this.#root, env);
    if (!Number.isFinite(v)) throw new ExpressionError(`evaluates to ${v} at t=${env.t}`);
    return v;
  }
}
