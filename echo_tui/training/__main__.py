import json
import sys

from .child import child
from .frames import die_with_parent

die_with_parent()
sys.exit(child(json.loads(sys.argv[1]), sys.stdout.buffer))
