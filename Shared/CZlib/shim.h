// The system zlib (Debian: zlib1g-dev; macOS: part of the SDK), used to read .gz IDX files.
#include <zlib.h>
