"""Where in the papers the pruning claims' statements are made (`Claim.where`). The locations are
recalled, not checked against the PDFs (/work/shared/REFERENCES.md marks them [M]); each says so."""

from common.experiment import RECALLED

L1_NORM = f"Liu et al. 2019, Sec. 4.1, Table 1 (L1-norm filter pruning, CIFAR-10 VGG-16-A){RECALLED}"
UNSTRUCTURED = f"Liu et al. 2019, Sec. 4.2, the table of non-structured magnitude pruning (Han et al. 2015){RECALLED}"
TICKETS = f"Frankle & Carbin 2019, Sec. 2, Figs. 3-4 (LeNet on MNIST, iterative pruning){RECALLED}"
LIU_SEC6 = f"Liu et al. 2019, Sec. 6, Fig. 7 (lrs 0.1 and 0.01, CIFAR-10){RECALLED}"
INSTABILITY = f"Frankle et al. 2020, Sec. 3, Figs. 2-3 (instability of dense nets vs rewind step){RECALLED}"
