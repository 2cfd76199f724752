// stb_image, compiled by Debian's libstb-dev (libstb.so).
#include <stb/stb_image.h>
