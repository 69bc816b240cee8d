// Turns a core validator (one that throws with a user-facing message) into an input box validator.

export function validateWith(check: (value: string) => unknown): (value: string) => string | undefined {
  return (value) => {
    try {
      check(value);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
}
