// errors.js — ChordError, the one error type of the package. `code` is a stable string: the
// engine's status names (include/chord.h: invalid_arg, io, format, unsupported, nomem, range,
// not_found, type, cancelled, internal, buffer) plus 'disposed', 'worker' and 'busy' (another
// call while a generation holds the model) for host-side failures.

export class ChordError extends Error {
    constructor(code, message) {
        super(message);
        this.name = 'ChordError';
        this.code = code;
    }
    toJSON() {
        return { name: this.name, code: this.code, message: this.message };
    }
    // Rebuilds an error that crossed postMessage as a plain { code, message } object.
    static from(e) {
        if (e instanceof ChordError) return e;
        if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string' &&
            e.name === 'ChordError')
            return new ChordError(e.code, e.message);
        return new ChordError('internal', e?.message ? String(e.message) : String(e));
    }
}
