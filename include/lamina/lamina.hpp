#pragma once

/// The umbrella header: one include for all of lamina's public API.

#include "lamina/version.hpp"

#include "lamina/core/broadcast.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

#include "lamina/autograd/grad_mode.hpp"
#include "lamina/autograd/gradcheck.hpp"
#include "lamina/autograd/variable.hpp"

#include "lamina/ops/arithmetic.hpp"
