import sys

while True:
    sys.stdout.write("spam " * 20_000 + "\n")
