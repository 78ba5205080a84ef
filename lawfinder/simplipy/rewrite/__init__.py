"""The simplifier's rewrite engine: ``Engine.node(op, children)`` turns one operator over simplified children into
its simplified form.

Modules, bottom to top (each imports only those before it):
``terms`` (leaves, numbers, coefficients, sums collected and printed) → ``products`` (products and powers) →
``signs`` (non-negativity, sign-normal forms, even contexts) → ``sums`` (the sum builder, log merging) →
``functions`` (abs, exp, log, even/odd functions, numeric folding) → ``engine`` (the driver, memo tables, pattern
rules). Products and sums nest in each other; the lower layers reach the higher builders through the engine object.
"""
