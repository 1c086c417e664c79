"""Running Salus on CometBFT: locating the binary, the ABCI adapter's processes, testnets."""
