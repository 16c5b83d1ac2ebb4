# optim: optimizers, parameter arena, gradient clipping, learning-rate schedulers. Sits on nn when that layer
# exists (design.md), else directly on ops; it uses only Tensor lists, never nn types.
if(TARGET ember_nn)
  ember_add_layer(optim optim ember_nn)
else()
  ember_add_layer(optim optim ember_ops)
endif()
# The fused update loops call sqrt; without errno handling GCC vectorises them.
target_compile_options(ember_optim PRIVATE -fno-math-errno)
