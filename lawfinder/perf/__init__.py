"""Performance benchmarks (`lawfinder bench simplify|train-step|generate|fit|pipeline`): each measures one subsystem
and prints a table plus JSON. They sit above every other package and nothing imports them."""
