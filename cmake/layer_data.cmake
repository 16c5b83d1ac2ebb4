# data: datasets, readers (IDX, JSON, CSV, text, images), the DataLoader and augmentation. Depends on core only.
# stb_image is compiled into src/data/image.cpp with static linkage (Debian libstb-dev headers), so no other
# library or config dependency is needed.
find_path(EMBER_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
ember_add_layer(data data ember_core ZLIB::ZLIB nlohmann_json::nlohmann_json)
target_include_directories(ember_data PRIVATE ${EMBER_STB_INCLUDE_DIR})
