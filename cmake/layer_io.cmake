# io: safetensors, model files, atomic checkpoints.
set(_ember_io_deps ember_core nlohmann_json::nlohmann_json)
foreach(dep nn optim)
  if(TARGET ember_${dep})
    list(APPEND _ember_io_deps ember_${dep})
  endif()
endforeach()
ember_add_layer(io io ${_ember_io_deps})
