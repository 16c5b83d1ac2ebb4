# nn: Module, Parameter, layers, containers, initialisers (PyTorch-like modules over the ops layer).
ember_add_layer(nn nn ember_ops)
