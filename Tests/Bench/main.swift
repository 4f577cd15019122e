import Shared
print("bench")
