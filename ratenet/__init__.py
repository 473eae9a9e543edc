"""ratenet: rate-coded neural networks in pure, vectorized NumPy.

Neurons and synapses are written as equation strings, parsed safely and run
as NumPy code; a network is ready the moment it is built.  The API follows
ANNarchy's rate-coded API, so existing scripts run after changing their
imports.

Examples
--------
>>> from ratenet import Network, Neuron
>>> net = Network()
>>> pop = net.create(3, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"))
>>> net.simulate(10.0)
>>> pop.r.round(4)
array([0.6513, 0.6513, 0.6513])

Note that ``from ratenet import *`` brings in ``compile``, ANNarchy's name for
building the network, which shadows Python's built-in ``compile`` in that
namespace, as it does for ANNarchy users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np  # ANNarchy 4's ``from ANNarchy import *`` gives ``np``; scripts rely on it

from . import models
from .api import (
    clear,
    compile,
    default_network,
    disable_learning,
    dt,
    enable_learning,
    get_current_step,
    get_population,
    get_projection,
    get_time,
    monitors,
    populations,
    reset,
    set_current_step,
    set_time,
    setup,
    simulate,
    simulate_until,
    step,
    load,
    save,
    set_seed,
    every,
    enable_callbacks,
    disable_callbacks,
    clear_all_callbacks,
    callbacks_enabled,
)
from ._codegen import UnstableMethodWarning
from .attributes import Creating, Parameter, Pruning, Variable
from .exceptions import EquationError, FileError, MissingFileError, RatenetError, RatenetWarning, ValidationError
from .monitor import Monitor
from .network import Network
from .neurons import IBCM, Constant, Hebb, LeakyIntegrator, Neuron, Oja, Synapse, add_function, functions
from .population import IndividualNeuron, InputArray, Population, PopulationView, TimedArray
from .projections.connectors import LILConnectivity
from .projections.projection import Dendrite, Projection
from .random import Binomial, DiscreteUniform, Exponential, Gamma, LogNormal, Normal, Uniform
from .models import (
    EIF_cond_alpha_isfa_ista,
    EIF_cond_exp_isfa_ista,
    HH_cond_exp,
    IF_cond_alpha,
    IF_cond_exp,
    IF_curr_alpha,
    IF_curr_exp,
    STDP,
    STP,
    Izhikevich,
    list_standard_neurons,
    list_standard_synapses,
)
from ._lazy import attach

if TYPE_CHECKING:  # pragma: no cover
    from . import demo, image, parallel, parameter_files, reporting, sweeps, tensorboard  # noqa: F401 (for mypy)
    from .parallel import parallel_run
    from .parameter_files import load_parameters, save_parameters
    from .reporting import report
    from .sweeps import sweep

#: ANNarchy's older name of :class:`LILConnectivity`.
CSR = LILConnectivity

# ``ratenet.projections`` is the subpackage, callable as ANNarchy's projections() function (see
# ratenet/projections/__init__.py): importing it bound it here, so the api's function is not imported.

__version__ = "0.1.0"

# Imported on first use (see ratenet/_lazy.py): a first network needs none of these.
__getattr__, __dir__ = attach(__name__, ["demo", "image", "parallel", "parameter_files", "reporting", "sweeps",
                                         "tensorboard"],
                              {"load_parameters": "parameter_files", "save_parameters": "parameter_files",
                               "parallel_run": "parallel", "report": "reporting", "sweep": "sweeps"}, globals())

__all__ = [
    "Neuron",
    "Synapse",
    "Parameter",
    "Variable",
    "Creating",
    "Pruning",
    "Population",
    "PopulationView",
    "IndividualNeuron",
    "Projection",
    "Dendrite",
    "Monitor",
    "Network",
    "InputArray",
    "TimedArray",
    "LILConnectivity",
    "CSR",
    "setup",
    "compile",
    "clear",
    "simulate",
    "simulate_until",
    "step",
    "reset",
    "get_time",
    "set_time",
    "get_current_step",
    "set_current_step",
    "dt",
    "enable_learning",
    "disable_learning",
    "save",
    "load",
    "save_parameters",
    "load_parameters",
    "get_population",
    "get_projection",
    "populations",
    "projections",
    "monitors",
    "default_network",
    "set_seed",
    "every",
    "enable_callbacks",
    "disable_callbacks",
    "clear_all_callbacks",
    "callbacks_enabled",
    "Uniform",
    "DiscreteUniform",
    "Normal",
    "LogNormal",
    "Exponential",
    "Gamma",
    "Binomial",
    "add_function",
    "functions",
    "Constant",
    "LeakyIntegrator",
    "Hebb",
    "Oja",
    "IBCM",
    "models",
    "list_standard_neurons",
    "list_standard_synapses",
    "Izhikevich",
    "IF_curr_exp",
    "IF_cond_exp",
    "IF_curr_alpha",
    "IF_cond_alpha",
    "HH_cond_exp",
    "EIF_cond_alpha_isfa_ista",
    "EIF_cond_exp_isfa_ista",
    "STP",
    "STDP",
    "np",
    "RatenetError",
    "FileError",
    "MissingFileError",
    "EquationError",
    "ValidationError",
    "RatenetWarning",
    "report",
    "parallel_run",
    "sweep",
    "UnstableMethodWarning",
]
