# train: the Keras-like path (keras::Sequential, compile/fit/evaluate/predict, metrics, callbacks, model files)
# and the public train_step / train_epoch / evaluate building blocks. Sits on nn, optim, io and data.
set(_ember_train_deps nlohmann_json::nlohmann_json)
foreach(dep nn optim io data)
  if(TARGET ember_${dep})
    list(APPEND _ember_train_deps ember_${dep})
  endif()
endforeach()
ember_add_layer(train train ${_ember_train_deps})
