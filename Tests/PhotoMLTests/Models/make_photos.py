"""Writes the decoder tests' photos: a 6 × 4 JPEG stored on its side with EXIF orientation 6
(upright it is 4 × 6), and a 5 × 3 PNG, each with a red top-left pixel. A developer step
(Pillow, as `.dev/venv` has it); the files are committed."""
import os

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

png = Image.new("RGB", (5, 3), (20, 160, 40))
png.putpixel((0, 0), (255, 0, 0))
png.save(os.path.join(HERE, "corner.png"))

# Upright: 4 wide, 6 high, red at the top left. Stored turned a quarter counter-clockwise,
# so orientation 6 (turn 90° clockwise to view) brings it back.
upright = Image.new("RGB", (4, 6), (20, 160, 40))
for x in range(2):
    for y in range(2):
        upright.putpixel((x, y), (255, 0, 0))
stored = upright.transpose(Image.Transpose.ROTATE_90)
exif = Image.Exif()
exif[0x0112] = 6
stored.save(os.path.join(HERE, "sideways.jpg"), quality=100, subsampling=0, exif=exif.tobytes())
